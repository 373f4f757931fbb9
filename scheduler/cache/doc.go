// Package cache is the scheduler's view of what runs where: every node and
// the pods counted on it, including pods the scheduler has assumed onto a
// node while their binding is in flight, so that pods scheduled in a row
// do not overcommit a node before the informers report the bindings. A
// Snapshot of it is taken before each scheduling cycle.
package cache
