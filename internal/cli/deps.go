package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/vroot-dev/vroot/deps"
)

const cmdDeps = "deps"

// dpkgRoot is the tree whose dpkg database --only-deps reads (as vroot.Run
// does); a variable for the tests.
var dpkgRoot = "/"

// onlyDepsClosure is the packages --only-deps lets a build use.
func onlyDepsClosure(root string, declared []string) ([]string, error) {
	db, err := deps.Load(root)
	if err != nil {
		return nil, fmt.Errorf("--only-deps: %w", err)
	}
	allowed, err := db.Closure(declared)
	if err != nil {
		return nil, fmt.Errorf("--only-deps: %w", err)
	}
	return allowed, nil
}

// depsUsage is the grammar of vroot deps.
const depsUsage = "deps: usage: vroot deps [--json] [--root DIR] REPORT"

// depsCommand prints the files a run read (from a --report file), grouped
// by the Debian package that owns them on this machine: the package name,
// then its files indented, packages sorted; then "(unowned)" and its
// files; then "(layer DIR)" for each SDK layer. Only reads served by the
// host are attributed. With --json, deps.Attribution. --root reads the
// dpkg database (and resolves symlinks) in the tree at DIR instead of /.
func depsCommand(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("deps", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "")
	root := fs.String("root", "/", "")
	var rest []string
	// Flags before and after REPORT, in any order.
	for {
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("deps: %w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != 1 {
		return errors.New(depsUsage)
	}
	reads, err := readReport(rest[0])
	if err != nil {
		return err
	}
	db, err := deps.Load(*root)
	if err != nil {
		return fmt.Errorf("deps: %w", err)
	}
	a := db.Attribute(reads)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	return printAttribution(stdout, a)
}

// readReport reads the reads of a vroot report: the "reads" array of its
// top-level object, whatever else the report holds.
func readReport(file string) ([]deps.FileRead, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var r struct {
		Reads *[]deps.FileRead `json:"reads"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a vroot report: %w", file, err)
	}
	if r.Reads == nil {
		return nil, fmt.Errorf("%s: not a vroot report: no \"reads\"", file)
	}
	return *r.Reads, nil
}

func printAttribution(w io.Writer, a deps.Attribution) error {
	var err error
	group := func(title string, files []string) {
		if err != nil {
			return
		}
		if _, err = fmt.Fprintln(w, title); err != nil {
			return
		}
		for _, f := range files {
			if _, err = fmt.Fprintf(w, "  %s\n", f); err != nil {
				return
			}
		}
	}
	for _, p := range a.Packages {
		group(p.Package, p.Files)
	}
	if len(a.Unowned) > 0 {
		group("(unowned)", a.Unowned)
	}
	for _, l := range a.Layers {
		group("(layer "+l.Layer+")", l.Files)
	}
	return err
}
