package ask

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// Exec runs a command per request: `sh -c Command`, with the request as
// one line of JSON on its standard input and VROOT_ASK_OP, VROOT_ASK_PATH,
// VROOT_ASK_PID and VROOT_ASK_RULE in its environment (so that a one-line
// shell policy need not parse JSON). Exit status 0 allows, 1 denies; any
// other outcome is an error, and the Asker's default applies. The command
// runs as vroot's user, outside the trace: it sees the host as it is.
//
// The tracer waits for any child (wait4(-1)), but not while a question is
// being asked, since it is the one asking. Only a command that outlives
// its timeout can be reaped by the tracer; its status is lost then, which
// changes nothing: the default was already given.
type Exec struct {
	Command string
	// Stderr receives the command's standard error; nil discards it. Its
	// standard output is discarded.
	Stderr io.Writer
}

// Name is "exec:" and the command.
func (e *Exec) Name() string { return "exec:" + e.Command }

// Ask runs the command for req; the answer covers req.Path only.
func (e *Exec) Ask(ctx context.Context, req Request) (Answer, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return Answer{}, err
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", e.Command)
	cmd.Stdin = bytes.NewReader(append(in, '\n'))
	cmd.Stderr = e.Stderr
	cmd.Env = append(cmd.Environ(),
		"VROOT_ASK_OP="+req.Op, "VROOT_ASK_PATH="+req.Path,
		"VROOT_ASK_PID="+strconv.Itoa(req.Pid), "VROOT_ASK_RULE="+req.Rule)
	// Its own process group, killed whole on timeout: a policy script's
	// children must not outlive the answer.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return Answer{}, ctx.Err()
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return Answer{Allow: true}, nil
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		return Answer{Allow: false}, nil
	case errors.As(err, &ee):
		return Answer{}, fmt.Errorf("exec %q: %v (want exit status 0 or 1)", e.Command, ee.ProcessState)
	}
	return Answer{}, fmt.Errorf("exec %q: %w", e.Command, err)
}
