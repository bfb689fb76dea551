// Command helmbatch runs many helm lint/template/package jobs in one process, with helm 4's own
// command tree (helm.sh/helm/v4/pkg/cmd), so each job prints exactly what the helm CLI prints.
//
// Protocol (see chartship/tools/helmbatch.py): one JSON document on stdin,
//
//	{"workers": 1, "jobs": [{"id": "...", "op": "lint"|"template"|"package", "chart": "/abs/chart",
//	  "values": ["/abs/values.yaml"], "strict": true, "release": "rel", "namespace": "ns",
//	  "api_versions": ["monitoring.coreos.com/v1"], "dest": "/abs/dir"}]}
//
// and one JSON line per job on stdout, in job order:
//
//	{"id": "...", "ok": true, "exit": 0, "stdout": "...", "stderr": "...", "error": ""}
//
// stdout/stderr/exit are what `helm lint|template|package` would have printed and returned; error is set
// only when the job could not run at all (a panic), and then ok is false.
//
// Jobs run one at a time: helm 4's command tree keeps its settings (namespace, debug, ...) and the default
// logger in package-level state, so two jobs at once would share them. The caller starts one helper per worker.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	helmcmd "helm.sh/helm/v4/pkg/cmd"
	"helm.sh/helm/v4/pkg/kube"
)

type job struct {
	ID          string   `json:"id"`
	Op          string   `json:"op"`
	Chart       string   `json:"chart"`
	Values      []string `json:"values"`
	Strict      bool     `json:"strict"`
	Release     string   `json:"release"`
	Namespace   string   `json:"namespace"`
	APIVersions []string `json:"api_versions"`
	Dest        string   `json:"dest"`
}

type request struct {
	Workers int   `json:"workers"`
	Jobs    []job `json:"jobs"`
}

type result struct {
	ID     string `json:"id"`
	OK     bool   `json:"ok"`
	Exit   int    `json:"exit"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Error  string `json:"error,omitempty"`
}

// the namespace a helm started without --namespace uses (helm's settings read it once)
var defaultNamespace = os.Getenv("HELM_NAMESPACE")

func valuesArgs(files []string) []string {
	var args []string
	for _, f := range files {
		args = append(args, "--values", f)
	}
	return args
}

// argv is the helm command line chartship's CLI path runs for j (chartship/tools/helm.py). --namespace is
// always given: the settings it sets outlive a job.
func argv(j job) ([]string, error) {
	switch j.Op {
	case "lint":
		args := []string{"lint", j.Chart}
		if j.Strict {
			args = append(args, "--strict")
		}
		return append(append(args, valuesArgs(j.Values)...), "--namespace", defaultNamespace), nil
	case "template":
		args := append([]string{"template", j.Release, j.Chart, "--namespace", j.Namespace}, valuesArgs(j.Values)...)
		for _, api := range j.APIVersions {
			args = append(args, "--api-versions", api)
		}
		return args, nil
	case "package":
		return []string{"package", j.Chart, "--destination", j.Dest, "--namespace", defaultNamespace}, nil
	}
	return nil, fmt.Errorf("unknown op %q", j.Op)
}

// logger is helm's client logger (no time, text) writing into the job's stderr.
func logger(w io.Writer) func(bool) {
	return func(debug bool) {
		base := slog.NewTextHandler(w, &slog.HandlerOptions{
			Level: slog.LevelDebug,
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		})
		level := slog.LevelInfo
		if debug {
			level = slog.LevelDebug
		}
		slog.SetDefault(slog.New(&levelHandler{base, level}))
	}
}

type levelHandler struct {
	slog.Handler
	min slog.Level
}

func (h *levelHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.min }

func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelHandler{h.Handler.WithAttrs(attrs), h.min}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{h.Handler.WithGroup(name), h.min}
}

func run(j job) (res result) {
	res.ID = j.ID
	var stdout, stderr bytes.Buffer
	defer func() {
		if p := recover(); p != nil {
			res = result{ID: j.ID, Exit: 2, Stdout: stdout.String(), Stderr: stderr.String(),
				Error: fmt.Sprintf("panic: %v", p)}
		}
	}()
	args, err := argv(j)
	if err != nil {
		return result{ID: j.ID, Exit: 2, Error: err.Error()}
	}
	cmd, err := helmcmd.NewRootCmd(&stdout, args, logger(&stderr))
	if err != nil {
		fmt.Fprintf(&stderr, "Error: %s\n", err)
		return result{ID: j.ID, Exit: 1, Stdout: stdout.String(), Stderr: stderr.String()}
	}
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	exit := 0
	if err := cmd.Execute(); err != nil {
		exit = 1
		if cerr, ok := errors.AsType[helmcmd.CommandError](err); ok {
			exit = cerr.ExitCode
		}
	}
	return result{ID: j.ID, OK: exit == 0, Exit: exit, Stdout: stdout.String(), Stderr: stderr.String()}
}

func main() {
	kube.ManagedFieldsManager = "helm"
	// Jobs are short and allocate much: collecting a quarter as often saves about a third of the CPU (a helm
	// process that lints one chart hardly collects at all).
	debug.SetGCPercent(400)
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "helmbatch: cannot read the jobs on stdin: %s\n", err)
		os.Exit(2)
	}
	if req.Workers > 1 {
		fmt.Fprintln(os.Stderr, "helmbatch: workers must be 1 (helm's command tree is not safe to run twice at once); start one helper per worker")
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for _, j := range req.Jobs {
		if err := enc.Encode(run(j)); err != nil {
			fmt.Fprintf(os.Stderr, "helmbatch: %s\n", err)
			os.Exit(2)
		}
		out.Flush()
	}
}
