// Package apiserver assembles `capstan server`: options, credentials, storage,
// and the server chain kube-aggregator -> built-in API -> apiextensions-apiserver.
package apiserver
