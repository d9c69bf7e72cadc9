// Command askapi runs a command under vroot.Run with an ask rule decided by
// a Go callback (Config.Ask), for the integration tests:
//
//	askapi SECRET_DIR DENIED_NAME RECORDS_JSON -- COMMAND [ARG...]
//
// The rule is an ask rule on SECRET_DIR over a grant of /; the callback
// denies paths whose last element is DENIED_NAME and allows the rest. The
// requests the callback saw and Result.Asks are written to RECORDS_JSON.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sync"

	"github.com/vroot-dev/vroot"
	"github.com/vroot-dev/vroot/ask"
	"github.com/vroot-dev/vroot/filemap"
)

func main() {
	vroot.MaybeInit()
	if len(os.Args) < 6 || os.Args[4] != "--" {
		fmt.Fprintln(os.Stderr, "usage: askapi SECRET_DIR DENIED_NAME RECORDS_JSON -- COMMAND [ARG...]")
		os.Exit(2)
	}
	secret, denied, out := os.Args[1], os.Args[2], os.Args[3]
	m, err := filemap.New([]filemap.Rule{
		{Path: "/", Action: filemap.Grant, Source: "askapi"},
		{Path: secret, Action: filemap.Ask, Source: "askapi"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(125)
	}
	var mu sync.Mutex
	var seen []ask.Request
	res, err := vroot.Run(context.Background(), vroot.Config{
		Args: os.Args[5:],
		Map:  m,
		Ask: ask.Func(func(ctx context.Context, r ask.Request) (ask.Answer, error) {
			mu.Lock()
			seen = append(seen, r)
			mu.Unlock()
			return ask.Answer{Allow: path.Base(r.Path) != denied}, nil
		}),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "askapi:", err)
		os.Exit(125)
	}
	b, _ := json.Marshal(map[string]any{"seen": seen, "asks": res.Asks})
	if err := os.WriteFile(out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(125)
	}
	os.Exit(res.ExitCode)
}
