package queue

import "container/heap"

// podHeap is a priority queue of pods keyed by namespace/name, so that a
// pod can be updated or removed wherever it sits.
type podHeap struct {
	items []*QueuedPodInfo
	index map[string]int
	less  func(a, b *QueuedPodInfo) bool
}

func newPodHeap(less func(a, b *QueuedPodInfo) bool) *podHeap {
	return &podHeap{index: map[string]int{}, less: less}
}

// heap.Interface, for container/heap only.
type heapImpl struct{ h *podHeap }

func (x heapImpl) Len() int           { return len(x.h.items) }
func (x heapImpl) Less(i, j int) bool { return x.h.less(x.h.items[i], x.h.items[j]) }
func (x heapImpl) Swap(i, j int) {
	h := x.h
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.index[h.items[i].key()] = i
	h.index[h.items[j].key()] = j
}
func (x heapImpl) Push(v any) {
	h := x.h
	p := v.(*QueuedPodInfo)
	h.index[p.key()] = len(h.items)
	h.items = append(h.items, p)
}
func (x heapImpl) Pop() any {
	h := x.h
	last := len(h.items) - 1
	p := h.items[last]
	h.items[last] = nil
	h.items = h.items[:last]
	delete(h.index, p.key())
	return p
}

func (h *podHeap) Len() int { return len(h.items) }

// AddOrUpdate inserts p, or replaces the entry with p's key.
func (h *podHeap) AddOrUpdate(p *QueuedPodInfo) {
	if i, ok := h.index[p.key()]; ok {
		h.items[i] = p
		heap.Fix(heapImpl{h}, i)
		return
	}
	heap.Push(heapImpl{h}, p)
}

// Get returns the entry with key.
func (h *podHeap) Get(key string) (*QueuedPodInfo, bool) {
	i, ok := h.index[key]
	if !ok {
		return nil, false
	}
	return h.items[i], true
}

// Delete removes the entry with key and returns it.
func (h *podHeap) Delete(key string) *QueuedPodInfo {
	i, ok := h.index[key]
	if !ok {
		return nil
	}
	return heap.Remove(heapImpl{h}, i).(*QueuedPodInfo)
}

// Peek returns the head.
func (h *podHeap) Peek() *QueuedPodInfo {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

// Pop removes and returns the head.
func (h *podHeap) Pop() *QueuedPodInfo {
	if len(h.items) == 0 {
		return nil
	}
	return heap.Pop(heapImpl{h}).(*QueuedPodInfo)
}

// List returns the entries in no particular order.
func (h *podHeap) List() []*QueuedPodInfo { return append([]*QueuedPodInfo(nil), h.items...) }
