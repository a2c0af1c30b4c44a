// Package managesieve serves ManageSieve (RFC 5804): users upload, check,
// list and activate their Sieve scripts from their mail clients.
//
// It owns the ManageSieve wire protocol and session; scripts are kept
// through the Scripts interface (store.go), implemented over the
// replicated store by protocols/sievestore. It must not write to the store
// itself, interpret Sieve (Config.Check does), or check passwords (the
// node's one login path, protocols/login, does).
package managesieve
