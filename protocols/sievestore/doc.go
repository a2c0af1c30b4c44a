// Package sievestore is where ManageSieve, the admin API and the CLI read
// and write Sieve state: the scripts of users ("alice@example.org") and
// of administrators ("@example.org" runs before that domain's users'
// scripts, "@" before everyone's), and forwarding. The delivery filter
// reads the node's store directly (filter.StoreState): it only reads.
//
// Reads come from the node's projection (*mailbox.Store); writes are
// events (SieveScriptPut, SieveScriptDeleted, SieveScriptRenamed,
// SieveScriptActivated, ForwardingSet) proposed through the cluster, and a
// write returns once its event is committed and applied on this node, so
// that the caller's next read sees it (docs/DESIGN.md invariant 1). Apply
// decides every conflict (two nodes putting, deleting or renaming at
// once): this package never checks-then-writes.
//
// Scripts implements managesieve.Scripts and maps apply's refusals to its
// RFC 5804 errors. It must not compile or run scripts (protocols/sieve
// does, for its callers), nor write to the store other than by proposing.
package sievestore
