package redirect

import (
	"strings"
	"sync"

	"github.com/vroot-dev/vroot/filemap"
)

// maxCached bounds one generation of the cache: keys are spelled as requests
// spell them, so a long build could otherwise grow it without end. Reaching
// it simply starts the generation afresh.
const maxCached = 1 << 16

// dirEntry is one resolved guest directory. It is immutable once cached.
type dirEntry struct {
	guest string        // canonical guest path
	rule  *filemap.Rule // rule of guest; nil when no rule covers it
	// hosts is the directory in each layer where it is a directory, topmost
	// first: the merged stack its names are looked up in. hosts[0] is the
	// host path of the directory itself.
	hosts []string
	kids  map[string]*filemap.Rule // rules whose Path is a child of guest
	// pass: guest falls under a deny or ask rule but leads to an allowed
	// rule, so it is traversed as the host's own directory.
	pass bool
	// native: a /proc magic link led outside the guest view; hosts[0] is the
	// host path the kernel resolves the rest in, and guest is empty.
	native bool
	// The overlay, for a directory under a redirect rule when there is a
	// stage: stage is its path in the stage (whether or not the stage has
	// it), staged says hosts[0] is that path, and look is where its names
	// are looked up: the stage directory, then the lower ones (hosts with
	// the stage's path in front when it is not staged). An opaque staged
	// directory has no lower directories.
	stage  string
	staged bool
	look   []string
}

// cached is a directory and the number of symlinks a walk of the key it is
// stored under follows to reach it, so that ELOOP stays exact when a walk
// reuses it.
type cached struct {
	e     *dirEntry
	links int
}

// dirCache is one generation of the directory cache.
type dirCache struct {
	mu sync.RWMutex
	m  map[string]cached
}

func newDirCache() *dirCache { return &dirCache{m: make(map[string]cached)} }

func (c *dirCache) get(key string) (cached, bool) {
	c.mu.RLock()
	v, ok := c.m[key]
	c.mu.RUnlock()
	return v, ok
}

func (c *dirCache) put(key string, v cached) {
	// Keys are often substrings of a request's path: clone so the cache does
	// not pin the whole string.
	key = strings.Clone(key)
	c.mu.Lock()
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[key] = v
	c.mu.Unlock()
}
