package vroot

import (
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/vroot-dev/vroot/redirect"
	"github.com/vroot-dev/vroot/tracer"
)

// Bounds of what a run keeps in memory for its Result (see Result).
const (
	// DefaultMaxReads is the number of distinct files Result.Reads lists
	// when Config.MaxReads is 0: about 200 bytes each, so some 40 MiB at
	// most, for builds far larger than a distribution package.
	DefaultMaxReads = 200_000
	// maxNetwork is the number of distinct network attempts listed.
	maxNetwork = 10_000
	// maxCommand is the longest command line kept, in bytes; maxCommands
	// bounds their total: past it, new command lines are not read.
	maxCommand  = 4096
	maxCommands = 32 << 20
)

// recorder aggregates what the tracer reports during a run, in memory,
// once per distinct file or address: a read of a file already seen costs
// one map lookup (no allocation). It is safe for concurrent use.
type recorder struct {
	mu sync.Mutex

	reads        map[string]int // guest path -> index in readList
	readList     []readEntry
	maxReads     int
	readsDropped int

	net        map[netKey]int // -> index in netList
	netList    []NetAttempt
	netDropped int

	// cmds caches each live process's command line, read from /proc the
	// first time a record needs it; dropped when the pid execs or is
	// reused by a new process.
	cmds      map[int]string
	cmdBytes  int
	cmdsFull  bool
	procRoot  string // "/proc", a test may change it
	violation []Violation
}

type readEntry struct {
	layer, rulePath, path, host string
	pid                         int
	command                     string
}

type netKey struct {
	syscall   string
	addr      netip.AddrPort
	allowed   bool
	rewritten netip.AddrPort
}

func newRecorder(maxReads int) *recorder {
	if maxReads <= 0 {
		maxReads = DefaultMaxReads
	}
	return &recorder{
		reads:    make(map[string]int),
		maxReads: maxReads,
		net:      make(map[netKey]int),
		cmds:     make(map[int]string),
		procRoot: "/proc",
	}
}

// read records that pid read a's file from a lower layer. The steady state
// (a file already recorded) is a map lookup under the lock.
func (r *recorder) read(pid int, a redirect.Answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.reads[a.Guest]; ok {
		return
	}
	if len(r.readList) >= r.maxReads {
		// Counted once per distinct path would need the map to grow:
		// past the cap, every read of an unlisted file counts.
		r.readsDropped++
		return
	}
	rulePath := ""
	if a.Rule != nil {
		rulePath = a.Rule.Path
	}
	r.reads[a.Guest] = len(r.readList)
	r.readList = append(r.readList, readEntry{layer: a.Layer, rulePath: rulePath, path: a.Guest, host: a.Host, pid: pid, command: r.commandLocked(pid)})
}

// netEvent records one network attempt, once per syscall, address and
// outcome, with the first process that made it and a count.
func (r *recorder) netEvent(ev tracer.NetEvent) {
	k := netKey{syscall: ev.Syscall, addr: ev.Addr, allowed: ev.Allowed, rewritten: ev.Rewritten}
	r.mu.Lock()
	defer r.mu.Unlock()
	if i, ok := r.net[k]; ok {
		r.netList[i].Count++
		return
	}
	if len(r.netList) >= maxNetwork {
		r.netDropped++
		return
	}
	fam := "inet"
	if ev.Family == syscall.AF_INET6 {
		fam = "inet6"
	}
	na := NetAttempt{Pid: ev.Pid, Command: r.commandLocked(ev.Pid), Syscall: ev.Syscall, Family: fam,
		Address: ev.Addr.String(), Allowed: ev.Allowed, Count: 1}
	if ev.Errno != 0 {
		na.Errno = errnoName(ev.Errno)
	}
	if ev.Rewritten.IsValid() {
		na.Rewritten = ev.Rewritten.String()
	}
	r.net[k] = len(r.netList)
	r.netList = append(r.netList, na)
}

func (r *recorder) violate(v Violation) {
	r.mu.Lock()
	v.Command = r.commandLocked(v.Pid)
	r.violation = append(r.violation, v)
	r.mu.Unlock()
}

// command is the command line of pid, for records other packages make
// (ask decisions).
func (r *recorder) command(pid int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.commandLocked(pid)
}

// forget drops pid's cached command line: it exec'd, or is a new process.
func (r *recorder) forget(pid int) {
	r.mu.Lock()
	delete(r.cmds, pid)
	r.mu.Unlock()
}

func (r *recorder) commandLocked(pid int) string {
	if c, ok := r.cmds[pid]; ok {
		return c
	}
	if r.cmdsFull {
		return ""
	}
	b, err := os.ReadFile(r.procRoot + "/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return ""
	}
	c := formatCmdline(b)
	r.cmdBytes += len(c)
	if r.cmdBytes > maxCommands {
		r.cmdsFull = true
	}
	r.cmds[pid] = c
	return c
}

// formatCmdline turns /proc/PID/cmdline (NUL-separated) into one line,
// quoting the arguments a shell would split, cut at maxCommand bytes.
func formatCmdline(b []byte) string {
	b = []byte(strings.TrimRight(string(b), "\x00"))
	var sb strings.Builder
	for i, arg := range strings.Split(string(b), "\x00") {
		if i > 0 {
			sb.WriteByte(' ')
		}
		if arg == "" || strings.ContainsAny(arg, " \t\n'\"\\$`;&|<>()*?[]#~") {
			sb.WriteString("'" + strings.ReplaceAll(arg, "'", `'\''`) + "'")
		} else {
			sb.WriteString(arg)
		}
		if sb.Len() > maxCommand {
			break
		}
	}
	s := sb.String()
	if len(s) > maxCommand {
		s = s[:maxCommand] + "..."
	}
	return s
}

// results fills the records into res: reads sorted by layer then path,
// network attempts in the order first seen.
func (r *recorder) results(res *Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res.Violations = r.violation
	res.Reads = make([]Read, 0, len(r.readList))
	for _, e := range r.readList {
		layer := e.layer
		if layer == e.rulePath {
			layer = "host"
		}
		res.Reads = append(res.Reads, Read{Layer: layer, Path: e.path, Host: e.host, Pid: e.pid, Command: e.command})
	}
	sort.Slice(res.Reads, func(i, j int) bool {
		a, b := res.Reads[i], res.Reads[j]
		if a.Layer != b.Layer {
			return a.Layer == "host" || b.Layer != "host" && a.Layer < b.Layer
		}
		return a.Path < b.Path
	})
	res.ReadsDropped = r.readsDropped
	res.Network = append([]NetAttempt(nil), r.netList...)
	res.NetworkDropped = r.netDropped
}

// opName names a resolver operation for violations.
func opName(op redirect.Op) string {
	switch op {
	case redirect.OpRead:
		return "read"
	case redirect.OpExec:
		return "exec"
	case redirect.OpChdir:
		return "chdir"
	case redirect.OpWrite:
		return "write"
	case redirect.OpCreate:
		return "create"
	case redirect.OpDelete:
		return "delete"
	case redirect.OpMove:
		return "move"
	}
	return "op" + strconv.Itoa(int(op))
}
