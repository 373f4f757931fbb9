// Package garbagecollector deletes objects whose owners are gone, across
// every deletable resource the server lists (custom resources included),
// and carries out foreground and orphan deletion for owners that ask for
// them, as upstream's garbage collector does.
//
// One goroutine turns watch events from metadata-only informers into a graph
// of owners and dependents; workers read that graph and act on the API:
// deleting dependents, removing owner references and removing the
// foregroundDeletion and orphan finalizers.
package garbagecollector
