// Package configs holds the filemap profiles shipped inside the vroot
// binary, so that `include = ["default"]` and `--profile strict` work without
// any file installed. Load them with filemap.Loader{Shipped: configs.FS}.
package configs

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

// FS holds NAME.toml for each shipped profile, at its root.
//
//go:embed *.toml
var FS embed.FS

// Names returns the shipped profiles' names (without ".toml"), sorted.
func Names() []string {
	ents, err := fs.ReadDir(FS, ".")
	if err != nil {
		// The embedded directory always exists; this is unreachable.
		return nil
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".toml"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
