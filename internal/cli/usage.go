package cli

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/vroot-dev/vroot/configs"
)

// Version is vroot's release, set at build time:
//
//	go build -ldflags "-X github.com/vroot-dev/vroot/internal/cli.Version=1.2.0" ./cmd/vroot
var Version = "dev"

// versionString is "vroot VERSION", with the VCS state the Go toolchain
// stamped into the binary, when it did: a "dev" build is only identifiable
// by its revision.
func versionString() string {
	s := "vroot " + Version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return s
	}
	if Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		// go install github.com/vroot-dev/vroot/cmd/vroot@v1.2.0
		s = "vroot " + bi.Main.Version
	}
	var rev, when, dirty string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.time":
			when = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " (" + rev
		if when != "" {
			s += " " + when
		}
		s += dirty + ")"
	}
	return s
}

func usage() string {
	var b strings.Builder
	b.WriteString(`Usage:
  vroot [flags] [--] COMMAND [ARG...]   run COMMAND with a virtual root
  vroot check [flags]                   print the filemap a run would use
  vroot status [--json] STAGE           list what a stage holds (A/M/D)
  vroot deps [--json] REPORT            the host files a run read, by Debian package
  vroot pack STAGE -o FILE [...]        pack a stage into an archive (vroot pack -h)
  vroot sdk check|create ...            inspect or assemble an SDK (vroot sdk help)
  vroot version                         print vroot's version
  vroot help                            print this help

vroot's flags end at the first word that is not a flag: in "vroot make -j2"
the -j2 is make's. A first word that names a subcommand (check, version,
help, status, sdk, deps, pack) is that subcommand; run a
program of that name with "vroot -- check".

The filemap is --profile, then each --config, then the rule flags (--map,
--grant, --deny, --hide, --ask) in the order given; for one path the last
rule wins. Relative PATHs are taken from the current directory.

Flags:
`)
	for _, d := range flagDocs {
		name := "--" + d.name
		if len(d.name) == 1 {
			name = "-" + d.name
		}
		left := name
		if d.arg != "" {
			left += " " + d.arg
		}
		fmt.Fprintf(&b, "  %-20s %s\n", left, d.help)
	}
	fmt.Fprintf(&b, "\nShipped profiles: %s.\n", strings.Join(configs.Names(), ", "))
	b.WriteString("Exit status: the command's; 125 if vroot failed, 126 if the command could\nnot be executed, 127 if it was not found.\n")
	return b.String()
}
