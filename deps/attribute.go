package deps

import (
	"slices"
	"sort"
)

// HostLayer is the layer name of a read served by the host itself.
const HostLayer = "host"

// FileRead is one file a build read, as a vroot report lists it.
type FileRead struct {
	Layer string `json:"layer"` // HostLayer, or a lower layer's directory
	Path  string `json:"path"`  // the guest path
	Host  string `json:"host"`  // the host path read
}

// Attribution is a build's reads grouped by what provided them.
type Attribution struct {
	// Packages: the host files each package owns, by package name.
	Packages []PackageFiles `json:"packages"`
	// Unowned: host files no package owns (generated, local, or made by
	// maintainer scripts).
	Unowned []string `json:"unowned"`
	// Layers: the files read from other lower layers (SDKs), by layer;
	// dpkg's database does not describe them.
	Layers []LayerFiles `json:"layers"`
}

// PackageFiles is the files of one package that a build read.
type PackageFiles struct {
	Package string   `json:"package"`
	Files   []string `json:"files"`
}

// LayerFiles is the files a build read from one non-host layer.
type LayerFiles struct {
	Layer string   `json:"layer"`
	Files []string `json:"files"`
}

// Attribute groups reads by owning package (host reads only, by host
// path), sorted by package then path; a file several packages share is
// listed under each. Directories are left out: they belong to no package.
// Reads of other layers are grouped by layer. Every list is non-nil, so
// that the JSON form has arrays, never null.
func (db *DB) Attribute(reads []FileRead) Attribution {
	byPkg := map[string][]string{}
	byLayer := map[string][]string{}
	a := Attribution{Packages: []PackageFiles{}, Unowned: []string{}, Layers: []LayerFiles{}}
	for _, r := range reads {
		host := r.Host
		if host == "" {
			host = r.Path
		}
		if r.Layer != HostLayer {
			byLayer[r.Layer] = append(byLayer[r.Layer], r.Path)
			continue
		}
		if db.IsDir(host) {
			continue
		}
		owners := db.Owners(host)
		if len(owners) == 0 {
			a.Unowned = append(a.Unowned, r.Path)
		}
		for _, o := range owners {
			byPkg[o] = append(byPkg[o], r.Path)
		}
	}
	for _, p := range sortedKeys(byPkg) {
		a.Packages = append(a.Packages, PackageFiles{Package: p, Files: sortUniq(byPkg[p])})
	}
	for _, l := range sortedKeys(byLayer) {
		a.Layers = append(a.Layers, LayerFiles{Layer: l, Files: sortUniq(byLayer[l])})
	}
	a.Unowned = sortUniq(a.Unowned)
	return a
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortUniq(s []string) []string {
	sort.Strings(s)
	return slices.Compact(s)
}
