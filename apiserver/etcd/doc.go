// Package etcd runs the single-member etcd that `capstan server` embeds when
// no --etcd-servers are given.
package etcd
