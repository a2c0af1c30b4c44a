// Package bans enforces the replicated ban list at the edges of a node:
// Gate wraps a mail listener so that a client whose address a ban in force
// covers is refused before any protocol code runs, and Pruner, on the
// leader only, proposes BansPruned once bans have expired, so that the list
// in the store stays bounded. New and Ban build and propose BanAdded for
// the admin API and for automatic bans. AutoBanner is the automatic
// policy (--auto-ban): a client locked out of logins Count times within
// Window on a node is banned for Duration, once; loopback and exempt
// prefixes never are.
//
// The ban list itself lives in the store (mailbox/: ban/ and bex/ keys)
// and changes only through the log; this package reads it through the
// small Checker interface and writes only by proposing events. It knows
// one line of each mail protocol: the refusal a banned client is sent.
package bans
