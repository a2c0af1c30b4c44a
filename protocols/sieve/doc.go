// Package sieve is Surat's Sieve interpreter (RFC 5228) with the
// extensions its users need: fileinto and mailbox (RFC 5490), copy (RFC
// 3894), envelope, imap4flags (RFC 5232), body (RFC 5173), variables
// (RFC 5229), relational (RFC 5231), subaddress (RFC 5233), date and
// index (RFC 5260), regex (draft-ietf-sieve-regex), reject and ereject
// (RFC 5429), vacation (RFC 5230) with :seconds (RFC 6131), editheader
// (RFC 5293), include (RFC 6609), duplicate (RFC 7352), spamtest,
// spamtestplus and virustest (RFC 5235), environment (RFC 5183) and
// encoded-character (RFC 5228 §2.4.2.4). Extensions lists exactly these:
// it is the SIEVE capability ManageSieve announces.
//
// Compile parses and checks a script once (errors carry a line and a
// column); Execute runs the compiled Script on one message for one
// recipient and returns what it decided: keep, fileinto, redirect,
// discard, reject, a vacation reply to consider, an edited header, ids
// for duplicate tracking. ExecuteSequence runs the global and domain
// scripts before the user's, combining their actions as Pigeonhole does
// with sieve_before. The package owns the language only: it never does
// I/O, sends mail or stores messages, it reads the clock only when
// Env.Now is zero, it keeps no global mutable state, and one *Script may
// be executed by many goroutines at once. Whatever it needs from outside (mailbox
// existence, duplicate records, included scripts) comes through
// callbacks in Env and Options.
//
// Execution is bounded (Limits): interpreter steps (comparisons of
// large values and :matches backtracking are charged too), redirects,
// copies, include count and depth, variable length, body bytes, header
// growth. A runtime error (a limit
// reached, conflicting actions, the context ending) makes Execute return
// an error; the caller then keeps the message in INBOX, as RFC 5228
// §2.10.6 asks.
//
// Surat wrote its own interpreter rather than use
// github.com/migadu/go-sieve: that one lacks reject, include, duplicate,
// spamtest and a step bound, and its command tables cannot be extended
// from outside. Nothing here is copied from another implementation;
// where the RFCs leave a choice, Surat does what Dovecot Pigeonhole does.
package sieve
