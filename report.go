package vroot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/filemap"
)

// ReportVersion is the version of the report's schema (docs/report.md): it
// changes when a field changes meaning or goes away, not when one is added.
const ReportVersion = 1

// Report is the JSON report of one run (vroot --report FILE), documented
// field by field in docs/report.md, whose JSON Schema a test keeps in step
// with these types.
type Report struct {
	Version         int               `json:"version"`
	Command         []string          `json:"command"`
	Dir             string            `json:"dir"`
	Net             string            `json:"net"`
	Started         string            `json:"started"`
	DurationSeconds float64           `json:"duration_seconds"`
	Exit            ReportExit        `json:"exit"`
	Error           string            `json:"error,omitempty"`
	Stage           ReportStage       `json:"stage"`
	Violations      []ReportViolation `json:"violations"`
	Asks            []AskRecord       `json:"asks"`
	Reads           []Read            `json:"reads"`
	ReadsDropped    int               `json:"reads_dropped"`
	Network         []NetAttempt      `json:"network"`
	NetworkDropped  int               `json:"network_dropped"`
}

// ReportExit is how the command ended.
type ReportExit struct {
	Code   int    `json:"code"`
	Signal string `json:"signal,omitempty"`
}

// ReportStage is what the stage holds after the run.
type ReportStage struct {
	Dir      string   `json:"dir"`
	Added    []string `json:"added"`
	Modified []string `json:"modified"`
	Deleted  []string `json:"deleted"`
}

// ReportViolation is an access a deny rule refused.
type ReportViolation struct {
	Pid     int    `json:"pid"`
	Command string `json:"command,omitempty"`
	Syscall string `json:"syscall"`
	Op      string `json:"op"`
	Path    string `json:"path"`
	Errno   string `json:"errno"`
	Rule    string `json:"rule"`
}

// NewReport builds the report of a run of cfg that gave res, and runErr
// (vroot's own failure, nil if none).
func NewReport(cfg Config, res Result, runErr error) Report {
	net := cfg.Net
	if net == "" {
		net = "allow"
	}
	started := res.Started
	if started.IsZero() {
		started = time.Now().Add(-res.Duration)
	}
	r := Report{
		Version:         ReportVersion,
		Command:         append([]string{}, cfg.Args...),
		Dir:             cfg.Dir,
		Net:             net,
		Started:         started.UTC().Format(time.RFC3339Nano),
		DurationSeconds: res.Duration.Seconds(),
		Exit:            ReportExit{Code: res.ExitCode},
		Stage:           ReportStage{Dir: res.Stage.Dir, Added: []string{}, Modified: []string{}, Deleted: []string{}},
		Violations:      make([]ReportViolation, 0, len(res.Violations)),
		Asks:            append([]AskRecord{}, res.Asks...),
		Reads:           append([]Read{}, res.Reads...),
		ReadsDropped:    res.ReadsDropped,
		Network:         append([]NetAttempt{}, res.Network...),
		NetworkDropped:  res.NetworkDropped,
	}
	if res.Signal != 0 {
		r.Exit.Signal = signalName(res.Signal)
	}
	if runErr != nil {
		r.Error = runErr.Error()
	}
	for _, c := range res.Stage.Changes {
		switch c.Kind {
		case 'A':
			r.Stage.Added = append(r.Stage.Added, c.Path)
		case 'M':
			r.Stage.Modified = append(r.Stage.Modified, c.Path)
		case 'D':
			r.Stage.Deleted = append(r.Stage.Deleted, c.Path)
		}
	}
	for _, v := range res.Violations {
		r.Violations = append(r.Violations, ReportViolation{Pid: v.Pid, Command: v.Command, Syscall: v.Syscall, Op: v.Op,
			Path: v.Guest, Errno: errnoName(v.Errno), Rule: v.Rule})
	}
	return r
}

// WriteFile writes the report to path, replacing it whole: it is written
// beside path, then renamed over it, so a reader never sees half a report.
func (r Report) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// errnoName is "ENOENT" for ENOENT, or "errno N" for an unnamed one.
func errnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return filemap.ErrnoName(e)
}

// signalName is "SIGKILL" for 9, or the number for an unnamed signal.
func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return strconv.Itoa(int(sig))
}
