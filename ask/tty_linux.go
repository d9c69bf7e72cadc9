package ask

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// TTY prompts on a terminal, normally the controlling one (/dev/tty), and
// reads a single key in raw mode:
//
//	y  allow once    (this path)
//	a  allow always  (everything under the ask rule)
//	n  deny once     (this path)
//	d  deny always   (everything under the ask rule)
//
// Y and N are taken as a and d; Escape and ^D deny once. ^C and ^\ deny
// once and then do what they would have done without the question: the
// terminal's foreground process group (the build) gets SIGINT or SIGQUIT;
// vroot itself ignores both and ends when the build does. The prompt starts on a fresh line and
// is redrawn every second, so that the build's own output, which keeps
// scrolling from processes that are not waiting on vroot, cannot hide it
// for long; once answered, the prompt line is replaced by a one-line note
// of the decision.
type TTY struct {
	path string

	mu sync.Mutex
	f  *os.File
}

// NewTTY makes a tty handler on the terminal at path ("" is /dev/tty).
// The terminal is opened on the first request.
func NewTTY(path string) *TTY {
	if path == "" {
		path = "/dev/tty"
	}
	return &TTY{path: path}
}

// Name is "tty".
func (t *TTY) Name() string { return "tty" }

// Close closes the terminal, if open.
func (t *TTY) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	return err
}

// Ask prompts for req and waits for a key or for ctx to end.
func (t *TTY) Ask(ctx context.Context, req Request) (Answer, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		// O_NONBLOCK so that the file is pollable and reads honour
		// deadlines; NewFile of a descriptor that is already non-blocking
		// keeps it so, even through Fd.
		fd, err := unix.Open(t.path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return Answer{}, fmt.Errorf("tty: open %s: %w", t.path, err)
		}
		t.f = os.NewFile(uintptr(fd), t.path)
	}
	fd := int(t.f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return Answer{}, fmt.Errorf("tty: %s: %w", t.path, err)
	}
	raw := *old
	// ISIG off: ^C must reach the question, which answers it before the
	// signal goes out; otherwise the build's processes that are not
	// waiting on vroot would die while the question waits.
	raw.Lflag &^= unix.ICANON | unix.ECHO | unix.ISIG
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return Answer{}, fmt.Errorf("tty: %s: %w", t.path, err)
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	// Keys typed before the question (or after an earlier one timed out)
	// answer nothing.
	unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH)

	prompt := Prompt(req)
	if _, err := t.f.WriteString("\r\n\x1b[K" + prompt); err != nil {
		return Answer{}, fmt.Errorf("tty: %w", err)
	}
	var buf [1]byte
	for {
		next := time.Now().Add(time.Second)
		if dl, ok := ctx.Deadline(); ok && dl.Before(next) {
			next = dl
		}
		t.f.SetReadDeadline(next)
		n, err := t.f.Read(buf[:])
		if ctx.Err() != nil {
			t.f.WriteString("\r\x1b[Kvroot: ask: no answer: " + req.Op + " " + printable(req.Path) + "\r\n")
			return Answer{}, fmt.Errorf("tty: %w", ctx.Err())
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.f.WriteString("\r\x1b[K" + prompt)
			continue
		}
		if err != nil {
			return Answer{}, fmt.Errorf("tty: %w", err)
		}
		if n == 0 {
			continue
		}
		ans, note, ok := keyAnswer(buf[0], req)
		if !ok {
			continue
		}
		t.f.WriteString("\r\x1b[Kvroot: ask: " + note + ": " + req.Op + " " + printable(req.Path) + "\r\n")
		if sig := keySignal(buf[0], old); sig != 0 {
			if pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil && pgrp > 0 {
				unix.Kill(-pgrp, sig)
			}
		}
		return ans, nil
	}
}

// Prompt is the question the tty handler shows for req, on one line.
func Prompt(req Request) string {
	cmd := req.Command
	if len(cmd) > 60 {
		cmd = cmd[:57] + "..."
	}
	return fmt.Sprintf("vroot: ask: pid %d (%s) %s %s? [y]es once, [a]lways, [n]o once, [d]eny always ", req.Pid, printable(cmd), req.Op, printable(req.Path))
}

// printable keeps a name from moving the cursor or changing the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// keySignal is the signal the terminal would have sent for key k.
func keySignal(k byte, t *unix.Termios) unix.Signal {
	switch {
	case k == 0:
		return 0 // a disabled control character is 0
	case k == t.Cc[unix.VINTR]:
		return unix.SIGINT
	case k == t.Cc[unix.VQUIT]:
		return unix.SIGQUIT
	}
	return 0
}

// keyAnswer maps a key to an answer and the note shown for it.
func keyAnswer(k byte, req Request) (Answer, string, bool) {
	switch k {
	case 'y':
		return Answer{Allow: true}, "allowed once", true
	case 'a', 'Y':
		return Answer{Allow: true, Scope: ScopePrefix, Prefix: req.Rule}, "allowed always", true
	case 'n', 0x1b, 0x03, 0x04, 0x1c:
		return Answer{}, "denied once", true
	case 'd', 'N':
		return Answer{Scope: ScopePrefix, Prefix: req.Rule}, "denied always", true
	}
	return Answer{}, "", false
}
