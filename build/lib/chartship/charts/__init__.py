"""Charts as they are in the working tree: the one Chart.yaml reader, values sets, changed charts, image tags, READMEs."""
