package replicaset

import (
	"sync"
	"time"
)

// expectationsTTL bounds how long an owner waits for the cache to show
// creations and deletions it made; a watch event lost for good must not
// stall it forever.
const expectationsTTL = 5 * time.Minute

// expectations remember, per owner key, the pod creations and deletions
// the controller made that the informer has not shown yet. An owner with
// outstanding expectations is not scaled again: its cached pod count is
// known to be stale, and acting on it would create or delete twice.
type expectations struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*pending
}

type pending struct {
	creates int
	deletes map[string]bool // pod keys (namespace/name)
	since   time.Time
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{now: now, m: map[string]*pending{}}
}

// satisfied tells whether the owner's cache view can be trusted.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.m[key]
	if !ok {
		return true
	}
	if (p.creates <= 0 && len(p.deletes) == 0) || e.now().Sub(p.since) > expectationsTTL {
		delete(e.m, key)
		return true
	}
	return false
}

func (e *expectations) expectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &pending{creates: n, since: e.now()}
}

func (e *expectations) expectDeletions(key string, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := &pending{deletes: make(map[string]bool, len(podKeys)), since: e.now()}
	for _, k := range podKeys {
		p.deletes[k] = true
	}
	e.m[key] = p
}

// creationObserved counts one creation seen (or given up).
func (e *expectations) creationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.m[key]; ok && p.creates > 0 {
		p.creates--
	}
}

// deletionObserved marks a pod's deletion as seen (or given up).
func (e *expectations) deletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.m[key]; ok {
		delete(p.deletes, podKey)
	}
}

func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
