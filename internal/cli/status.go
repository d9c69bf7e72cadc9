package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/vroot-dev/vroot"
)

// status prints what a stage holds: "A", "M" or "D" and the guest path,
// one per line, sorted; or a JSON array with --json.
func status(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	// Allow "status STAGE --json" as well as "status --json STAGE".
	rest := fs.Args()
	if len(rest) > 1 {
		if err := fs.Parse(rest[1:]); err != nil {
			return fmt.Errorf("status: %w", err)
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("status: unexpected argument %q", fs.Arg(0))
		}
	}
	if len(rest) == 0 {
		return errors.New("status: usage: vroot status [--json] STAGE")
	}
	changes, err := vroot.StageStatus(rest[0])
	if err != nil {
		return err
	}
	if *asJSON {
		type entry struct {
			Change string `json:"change"`
			Path   string `json:"path"`
		}
		out := make([]entry, 0, len(changes))
		for _, c := range changes {
			out = append(out, entry{Change: string(c.Kind), Path: c.Path})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, c := range changes {
		if _, err := fmt.Fprintf(stdout, "%c %s\n", c.Kind, c.Path); err != nil {
			return err
		}
	}
	return nil
}
