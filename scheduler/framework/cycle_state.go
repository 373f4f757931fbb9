package framework

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/util/sets"
)

// StateData is what a plugin stores in the cycle state. Clone must return
// a copy that can be changed without affecting the original (preemption
// simulates removing pods on a clone).
type StateData interface {
	Clone() StateData
}

// StateKey names a plugin's entry in the cycle state.
type StateKey string

// ErrNotFound is returned by Read for a key nobody wrote.
var ErrNotFound = fmt.Errorf("not found")

// CycleState is the scratch space of one scheduling cycle. Filter and Score
// run on many nodes in parallel, so reads and writes are synchronised.
type CycleState struct {
	storage sync.Map
	// skipFilter and skipScore name plugins whose PreFilter / PreScore returned Skip.
	skipFilter sets.Set[string]
	skipScore  sets.Set[string]
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState { return &CycleState{} }

// Read returns the data stored under key.
func (c *CycleState) Read(key StateKey) (StateData, error) {
	if v, ok := c.storage.Load(key); ok {
		return v.(StateData), nil
	}
	return nil, ErrNotFound
}

// Write stores data under key.
func (c *CycleState) Write(key StateKey, data StateData) { c.storage.Store(key, data) }

// Delete removes key.
func (c *CycleState) Delete(key StateKey) { c.storage.Delete(key) }

// Clone copies the state, cloning every entry.
func (c *CycleState) Clone() *CycleState {
	if c == nil {
		return nil
	}
	out := NewCycleState()
	c.storage.Range(func(k, v any) bool {
		out.storage.Store(k, v.(StateData).Clone())
		return true
	})
	out.skipFilter = c.skipFilter.Clone()
	out.skipScore = c.skipScore.Clone()
	return out
}

// ReadAs reads key and asserts its type, for plugins reading their own state.
func ReadAs[T StateData](c *CycleState, key StateKey) (T, error) {
	var zero T
	v, err := c.Read(key)
	if err != nil {
		return zero, fmt.Errorf("reading %q from cycle state: %w", key, err)
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("cycle state %q holds %T", key, v)
	}
	return t, nil
}
