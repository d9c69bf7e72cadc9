// Command vroot runs a build under ptrace with a virtual root: the host
// read-only, writes staged. See internal/cli for the command line and the
// vroot package for the engine; this file only wires the process to them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vroot-dev/vroot"
	"github.com/vroot-dev/vroot/internal/cli"
)

func main() {
	// First: when this process is vroot's re-executed init, it becomes the
	// traced command here and never returns.
	vroot.MaybeInit()

	// Ctrl-C and Ctrl-\ reach the build directly, since it shares the
	// terminal's process group; the build decides whether they end it,
	// and vroot exits when the build does, with its status. So vroot
	// catches them and does nothing. Caught, not ignored: an ignored
	// signal (SIG_IGN) is inherited across exec, and the build would
	// become deaf to them. A caught one reverts to its default in the
	// child. signal.Notify never blocks on a full channel, so a channel
	// nobody reads is enough.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGQUIT)

	// SIGTERM and SIGHUP are addressed to vroot (kill, a closed terminal).
	// Dying of them would take the build with it anyway (the tracees are
	// seized with PTRACE_O_EXITKILL), but abruptly; cancelling the context
	// kills the build tree and lets vroot finish its own work: print what
	// was denied, leave the stage consistent, exit with a status.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
