// Command helmbatch runs many helm lint/template/package jobs in one process on helm 3's packages
// (helm.sh/helm/v3/pkg/action). helm 3's commands live in its package main, which Go cannot import, so each
// job does here what `helm lint|template|package` do for the flags chartship passes (chartship/tools/helm.py)
// and prints what they print; tests/test_helmbatch.py checks both agree.
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
// stdout/stderr/exit are what the helm CLI would have printed and returned; error is set only when the job
// could not run at all (a panic), and then ok is false.
//
// Jobs run one at a time: helm 3 logs through the standard library's global logger, so two jobs at once
// would mix their messages. The caller starts one helper per worker.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/pkg/errors"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/release"
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

func quiet(string, ...interface{}) {}

func registryClient(settings *cli.EnvSettings, stderr io.Writer) (*registry.Client, error) {
	return registry.NewClient(registry.ClientOptDebug(settings.Debug), registry.ClientOptEnableCache(true),
		registry.ClientOptWriter(stderr), registry.ClientOptCredentialsFile(settings.RegistryConfig),
		registry.ClientOptBasicAuth("", ""))
}

// lint: `helm lint CHART [--strict] --values V...`
func lint(settings *cli.EnvSettings, j job, out io.Writer) error {
	client := action.NewLint()
	client.Strict = j.Strict
	client.Namespace = settings.Namespace()
	vals, err := (&values.Options{ValueFiles: j.Values}).MergeValues(getter.All(settings))
	if err != nil {
		return err
	}
	var message strings.Builder
	failed := 0
	result := client.Run([]string{j.Chart}, vals)
	fmt.Fprintf(&message, "==> Linting %s\n", j.Chart)
	if len(result.Messages) == 0 {
		for _, err := range result.Errors {
			fmt.Fprintf(&message, "Error %s\n", err)
		}
	}
	for _, msg := range result.Messages {
		fmt.Fprintf(&message, "%s\n", msg)
	}
	if len(result.Errors) != 0 {
		failed++
	}
	fmt.Fprint(&message, "\n")
	fmt.Fprint(out, message.String())
	summary := fmt.Sprintf("%d chart(s) linted, %d chart(s) failed", 1, failed)
	if failed > 0 {
		return errors.New(summary)
	}
	fmt.Fprintln(out, summary)
	return nil
}

func installable(ch *chart.Chart) error {
	switch ch.Metadata.Type {
	case "", "application":
		return nil
	}
	return errors.Errorf("%s charts are not installable", ch.Metadata.Type)
}

// template: `helm template RELEASE CHART --namespace NS --values V... --api-versions A...`
func template(settings *cli.EnvSettings, j job, out, stderr io.Writer) error {
	settings.SetNamespace(j.Namespace)
	cfg := new(action.Configuration)
	if err := cfg.Init(settings.RESTClientGetter(), settings.Namespace(), os.Getenv("HELM_DRIVER"), quiet); err != nil {
		return err
	}
	reg, err := registryClient(settings, stderr)
	if err != nil {
		return fmt.Errorf("missing registry client: %w", err)
	}
	cfg.RegistryClient = reg
	client := action.NewInstall(cfg)
	client.Timeout = 300 * time.Second
	client.SetRegistryClient(reg)
	client.DryRunOption = "true"
	client.DryRun = true
	client.ReleaseName = "release-name"
	client.Replace = true
	client.ClientOnly = true
	client.APIVersions = chartutil.VersionSet(j.APIVersions)
	rel, err := install(settings, j, client, stderr)
	if err != nil {
		if rel != nil {
			return fmt.Errorf("%w\n\nUse --debug flag to render out invalid YAML", err)
		}
		return err
	}
	if rel != nil {
		var manifests bytes.Buffer
		fmt.Fprintln(&manifests, strings.TrimSpace(rel.Manifest))
		for _, m := range rel.Hooks {
			fmt.Fprintf(&manifests, "---\n# Source: %s\n%s\n", m.Path, m.Manifest)
		}
		fmt.Fprintf(out, "%s", manifests.String())
	}
	return nil
}

func install(settings *cli.EnvSettings, j job, client *action.Install, stderr io.Writer) (*release.Release, error) {
	name, chartRef, err := client.NameAndChart([]string{j.Release, j.Chart})
	if err != nil {
		return nil, err
	}
	client.ReleaseName = name
	cp, err := client.ChartPathOptions.LocateChart(chartRef, settings)
	if err != nil {
		return nil, err
	}
	vals, err := (&values.Options{ValueFiles: j.Values}).MergeValues(getter.All(settings))
	if err != nil {
		return nil, err
	}
	ch, err := loader.Load(cp)
	if err != nil {
		return nil, err
	}
	if err := installable(ch); err != nil {
		return nil, err
	}
	if ch.Metadata.Deprecated {
		fmt.Fprintf(stderr, "WARNING: %s\n", "This chart is deprecated")
	}
	if req := ch.Metadata.Dependencies; req != nil {
		if err := action.CheckDependencies(ch, req); err != nil {
			return nil, errors.Wrap(err, "An error occurred while checking for chart dependencies. You may need to run `helm dependency build` to fetch missing dependencies")
		}
	}
	client.Namespace = settings.Namespace()
	return client.Run(ch, vals)
}

// pkg: `helm package CHART --destination DEST`
func pkg(settings *cli.EnvSettings, j job, out, stderr io.Writer) error {
	client := action.NewPackage()
	client.Destination = j.Dest
	client.RepositoryConfig = settings.RepositoryConfig
	client.RepositoryCache = settings.RepositoryCache
	vals, err := (&values.Options{}).MergeValues(getter.All(settings))
	if err != nil {
		return err
	}
	if _, err := registryClient(settings, stderr); err != nil {
		return fmt.Errorf("missing registry client: %w", err)
	}
	path, err := filepath.Abs(j.Chart)
	if err != nil {
		return err
	}
	if _, err := os.Stat(j.Chart); err != nil {
		return err
	}
	p, err := client.Run(path, vals)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Successfully packaged chart and saved it to: %s\n", p)
	return nil
}

func run(j job) (res result) {
	var stdout, stderr bytes.Buffer
	defer func() {
		if p := recover(); p != nil {
			res = result{ID: j.ID, Exit: 2, Stdout: stdout.String(), Stderr: stderr.String(),
				Error: fmt.Sprintf("panic: %v", p)}
		}
	}()
	log.SetOutput(&stderr)
	defer log.SetOutput(os.Stderr)
	settings := cli.New()
	var err error
	switch j.Op {
	case "lint":
		err = lint(settings, j, &stdout)
	case "template":
		err = template(settings, j, &stdout, &stderr)
	case "package":
		err = pkg(settings, j, &stdout, &stderr)
	default:
		return result{ID: j.ID, Exit: 2, Error: fmt.Sprintf("unknown op %q", j.Op)}
	}
	if err != nil {
		fmt.Fprintf(&stderr, "Error: %s\n", err) // what cobra prints for a failed command
		return result{ID: j.ID, Exit: 1, Stdout: stdout.String(), Stderr: stderr.String()}
	}
	return result{ID: j.ID, OK: true, Stdout: stdout.String(), Stderr: stderr.String()}
}

func main() {
	kube.ManagedFieldsManager = "helm"
	log.SetFlags(log.Lshortfile) // as helm 3's CLI logs
	// Jobs are short and allocate much: collecting a quarter as often saves about a third of the CPU (a helm
	// process that lints one chart hardly collects at all).
	debug.SetGCPercent(400)
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "helmbatch: cannot read the jobs on stdin: %s\n", err)
		os.Exit(2)
	}
	if req.Workers > 1 {
		fmt.Fprintln(os.Stderr, "helmbatch: workers must be 1 (helm logs through one global logger); start one helper per worker")
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
