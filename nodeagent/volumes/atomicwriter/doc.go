// Package atomicwriter publishes a set of files into a directory so that a
// reader never sees a mix of old and new contents: the files are written into
// a fresh hidden "..<timestamp>" directory, the "..data" symlink is switched
// to it with one rename, and the user-visible names are symlinks through
// "..data". Config map, secret, downward API and projected volumes use it.
package atomicwriter
