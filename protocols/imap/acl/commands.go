package acl

// The rights IMAP commands need on a mailbox that is not the user's own
// (RFC 4314 §4's table), for the dispatcher to check:
//
//	LIST, LSUB, the "Other Users" levels   l (a mailbox without l is not listed)
//	SELECT, EXAMINE, STATUS                 r; answered NO [NONEXISTENT] as for a missing mailbox
//	                                        when the user holds neither l nor r
//	FETCH, SEARCH, SORT, THREAD             r (a FETCH of a body sets \Seen only with s)
//	STORE                                   s for \Seen, t for \Deleted, w for the others
//	                                        (acl.FlagRight); flags without their right are
//	                                        ignored, as Dovecot does
//	APPEND, COPY and MOVE into              i; the copies keep only the flags AllowedFlags lets
//	MOVE from                               t and e (the source's messages are expunged)
//	EXPUNGE, UID EXPUNGE, CLOSE's expunge   e (CLOSE without e closes without expunging)
//	CREATE below it                         k; RENAME away from it x, to below k; DELETE x
//	SETACL, DELETEACL, GETACL, LISTRIGHTS   a
//	MYRIGHTS                                any right
//	GETMETADATA                             l and r (RFC 5464 §3.3); SETMETADATA of
//	                                        /private/ the same, of /shared/ also w
//
// Sieve's fileinto into it needs p (mailbox.Recipient.shared_owner).

// Writable reports whether a mailbox SELECTed with these rights is
// READ-WRITE (RFC 4314 §4: at least one of s, w, i, t, e); otherwise
// SELECT answers [READ-ONLY], as EXAMINE does.
func (r Rights) Writable() bool {
	return r&(Seen|Write|Insert|DeleteMessage|Expunge) != 0
}
