package ask

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"sync"
	"time"
)

// Socket asks a long-running peer over a unix stream socket, one JSON
// object per line each way: a Request (with an ID), then a Reply with the
// same ID. The connection is made on the first request and kept; after an
// error or a timeout it is closed, and the next request dials again, so
// that a late reply can never answer a later request. The protocol is in
// docs/ask-protocol.md.
type Socket struct {
	Path string

	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
	id   uint64
}

// Reply is the peer's answer to one request.
type Reply struct {
	ID     uint64 `json:"id"`
	Answer string `json:"answer"`           // "allow" or "deny"
	Scope  string `json:"scope,omitempty"`  // "path" (default) or "prefix"
	Prefix string `json:"prefix,omitempty"` // with scope prefix; default: the request's path
}

// Name is "socket:" and the path.
func (s *Socket) Name() string { return "socket:" + s.Path }

// Close closes the connection, if any.
func (s *Socket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drop()
}

func (s *Socket) drop() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn, s.r = nil, nil
	return err
}

// Ask sends req and waits for the reply that carries its id.
func (s *Socket) Ask(ctx context.Context, req Request) (Answer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ans, err := s.ask(ctx, req)
	if err != nil {
		s.drop()
		if ctx.Err() != nil {
			err = fmt.Errorf("%s: %w", s.Name(), ctx.Err())
		}
	}
	return ans, err
}

func (s *Socket) ask(ctx context.Context, req Request) (Answer, error) {
	if s.conn == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", s.Path)
		if err != nil {
			return Answer{}, err
		}
		s.conn, s.r = c, bufio.NewReader(c)
	}
	// Deadlines rather than a goroutine: they also unblock the read when
	// ctx ends.
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Time{}
	}
	c := s.conn
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	s.conn.SetDeadline(dl)
	s.id++
	req.ID = s.id
	b, err := json.Marshal(req)
	if err != nil {
		return Answer{}, err
	}
	if _, err := s.conn.Write(append(b, '\n')); err != nil {
		return Answer{}, fmt.Errorf("%s: %w", s.Name(), err)
	}
	for {
		line, err := s.r.ReadBytes('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Answer{}, fmt.Errorf("%s: the peer closed the connection", s.Name())
			}
			return Answer{}, fmt.Errorf("%s: %w", s.Name(), err)
		}
		var rep Reply
		if err := json.Unmarshal(line, &rep); err != nil {
			return Answer{}, fmt.Errorf("%s: malformed reply %.80q: %v", s.Name(), line, err)
		}
		if rep.ID < req.ID {
			continue // a reply to an earlier request: stale
		}
		if rep.ID != req.ID {
			return Answer{}, fmt.Errorf("%s: reply to request %d, expected %d", s.Name(), rep.ID, req.ID)
		}
		return rep.answer(req)
	}
}

func (rep Reply) answer(req Request) (Answer, error) {
	var a Answer
	switch rep.Answer {
	case "allow":
		a.Allow = true
	case "deny":
	default:
		return a, fmt.Errorf("reply %d: answer %q (want allow or deny)", rep.ID, rep.Answer)
	}
	switch rep.Scope {
	case "", "path":
	case "prefix":
		a.Scope, a.Prefix = ScopePrefix, req.Path
		if rep.Prefix != "" {
			p := path.Clean(rep.Prefix)
			if !path.IsAbs(p) || !within(req.Path, p) {
				return Answer{}, fmt.Errorf("reply %d: prefix %q does not contain %s", rep.ID, rep.Prefix, req.Path)
			}
			a.Prefix = p
		}
	default:
		return Answer{}, fmt.Errorf("reply %d: scope %q (want path or prefix)", rep.ID, rep.Scope)
	}
	return a, nil
}
