package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vroot-dev/vroot/filemap"
	"github.com/vroot-dev/vroot/sdk"
)

// cmdSDK is `vroot sdk check|create ...`, whose words are its own: they
// are handed to sdkCommand as given.
const cmdSDK = "sdk"

// sdkProfile is the shipped profile --sdk selects when no --profile is
// given.
const sdkProfile = "sdk"

func sdkUsage() string {
	return `Usage:
  vroot sdk check [--json] DIR
        say what the SDK at DIR provides (multiarch triplets, C library,
        pkg-config modules, packages) and what looks wrong in it (dangling
        or escaping symlinks, missing C start files); exit 1 if anything
        is wrong
  vroot sdk create [--arch ARCH] [--with-deps] [--split-usr] DIR PKG...
        unpack Debian binary packages PKG (apt-get download + dpkg-deb -x,
        no root) into DIR, creating it or adding to it; ARCH defaults to the
        host's; a foreign ARCH needs "dpkg --add-architecture ARCH &&
        apt-get update" done once by an administrator
  vroot --sdk DIR [flags] [--] COMMAND [ARG...]
        run COMMAND with DIR layered over the host for headers, libraries,
        pkg-config, aclocal and CMake files (the shipped profile "sdk")

Flags of create:
  --arch ARCH    Debian architecture of the packages (amd64, arm64, ...)
  --with-deps    add the packages' dependencies (apt-cache depends
                 --recurse, no recommends), keeping those of ARCH and all
  --split-usr    keep /lib, /bin as shipped instead of merging them into
                 /usr as the host is merged
`
}

// sdkCommand runs `vroot sdk ARGS...`. Errors are returned for Main to
// print; a check that found problems is exit status 1.
func sdkCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("sdk: want check or create (see vroot sdk help)")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		_, err := io.WriteString(stdout, sdkUsage())
		return err
	case "check":
		return sdkCheck(args[1:], stdout)
	case "create":
		return sdkCreate(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("sdk: unknown subcommand %q: want check or create (see vroot sdk help)", args[0])
}

// parseInterleaved parses fs's flags wherever they appear among the
// positional arguments ("sdk check DIR --json"), up to a "--" after which
// everything is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func newSDKFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("sdk "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func sdkCheck(args []string, stdout io.Writer) error {
	fs := newSDKFlagSet("check")
	asJSON := fs.Bool("json", false, "")
	help := fs.Bool("h", false, "")
	fs.BoolVar(help, "help", false, "")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return fmt.Errorf("sdk check: %w (see vroot sdk help)", err)
	}
	if *help {
		_, err := io.WriteString(stdout, sdkUsage())
		return err
	}
	if len(pos) != 1 {
		return errors.New("sdk check: want one DIR (see vroot sdk help)")
	}
	r, err := sdk.Check(pos[0])
	if err != nil {
		return fmt.Errorf("sdk check: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if r.Errors > 0 {
		return &exitError{code: 1}
	}
	return nil
}

func sdkCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSDKFlagSet("create")
	var opts sdk.CreateOptions
	fs.StringVar(&opts.Arch, "arch", "", "")
	fs.BoolVar(&opts.WithDeps, "with-deps", false, "")
	fs.BoolVar(&opts.SplitUsr, "split-usr", false, "")
	help := fs.Bool("h", false, "")
	fs.BoolVar(help, "help", false, "")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return fmt.Errorf("sdk create: %w (see vroot sdk help)", err)
	}
	if *help {
		_, err := io.WriteString(stdout, sdkUsage())
		return err
	}
	if len(pos) < 2 {
		return errors.New("sdk create: want DIR and at least one package (see vroot sdk help)")
	}
	opts.Packages = pos[1:]
	opts.Log = stderr
	if err := sdk.Create(ctx, pos[0], opts); err != nil {
		return fmt.Errorf("sdk create: %w", err)
	}
	// What the new SDK provides, and what looks wrong in it: shown, not
	// failed, since a subset of a distribution always has loose ends.
	r, err := sdk.Check(pos[0])
	if err != nil {
		return fmt.Errorf("sdk create: %w", err)
	}
	return r.WriteText(stdout)
}

// sdkRoot is the --sdk directory as ${SDK}: absolute, through symlinks (so
// that the host paths the kernel hands back map to guest paths), and a
// directory.
func sdkRoot(cwd, dir string) (string, error) {
	p := abs(cwd, dir)
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("--sdk %s: %w", dir, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("--sdk %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("--sdk %s: not a directory", dir)
	}
	return real, nil
}

// usesSDK reports whether some rule reads from the SDK: with --profile or
// configs of the user's own, --sdk must still mean something.
func usesSDK(rules []filemap.Rule, root string) bool {
	for _, r := range rules {
		for _, t := range r.To {
			if t == root || strings.HasPrefix(t, root+"/") {
				return true
			}
		}
	}
	return false
}
