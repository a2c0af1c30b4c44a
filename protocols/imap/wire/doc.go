// Package wire is the IMAP wire syntax, both ways (RFC 9051 §4 and §9,
// RFC 3501 where IMAP4rev1 differs): a Decoder that reads client commands
// with the limits the server enforces, an Encoder that writes responses,
// and the argument grammars of the commands, each into a typed result.
// It owns syntax only: it knows nothing of sessions, mailboxes or
// storage, and it never panics on input (every parser has a fuzz target).
//
// # Reading a command
//
//	dec := wire.NewDecoder(br, wire.Limits{})      // zero fields: DefaultLimits
//	dec.Continue = func(int64) error { return enc.Continuation("Ready").Flush() }
//	tag, name, err := dec.Begin()                 // "A1", "UID FETCH"
//	cmd, err := dec.ReadFetch(true)               // its arguments through the CRLF
//	// a command without arguments:  err = dec.End()
//	// or token by token:            err = dec.SP(); m, err := dec.Mailbox(); err = dec.End()
//
// On an error: if it is a *SyntaxError (IsSyntax), call dec.Discard()
// first (it skips the rest of the command, literals included; an error
// from it means the connection must close), then answer with the
// command's tag "BAD" (or "NO" when SyntaxError.No), the response code
// SyntaxError.Code if any, and SyntaxError.Text. Any other error comes
// from the reader (EOF, deadline): close the connection.
//
// Tokens: Atom, Keyword (upper-cased atom), ExpectKeyword, Number
// (uint32), NzNumber, Number64, Quoted, String, Astring, Nstring, List
// (a callback per element), Flag, FlagList, Mailbox and ListMailbox
// (modified UTF-7 decoded unless UTF8Accept), SeqSet, UIDSet, NumSet
// (with "*" and "$"), Date, DateTime; and the byte-level Peek, Maybe,
// Expect, SP, AtEnd, End.
//
// # Grammars
//
// Each reads from the space after the command name through the end of the
// command (End included), into a typed result:
//
//	ReadFetch(uid)        *FetchCommand   FETCH items, macros, CHANGEDSINCE/VANISHED, PREVIEW...
//	ReadSearch(uid)       *SearchCommand  RETURN, CHARSET, every search key → SearchCriteria
//	ReadStore(uid)        *StoreCommand   [+-]FLAGS[.SILENT], UNCHANGEDSINCE
//	ReadList()            *ListCommand    LIST-EXTENDED selection/return options, LIST-STATUS
//	ReadLsub()            *LsubCommand
//	ReadStatus()          *StatusCommand  STATUS items (SIZE, HIGHESTMODSEQ, MAILBOXID...)
//	ReadSelect()          *SelectCommand  SELECT/EXAMINE with CONDSTORE and QRESYNC parameters
//	ReadAppendMailbox, NextAppendMessage, NextCatenatePart: APPEND in steps (see append.go)
//	ReadSort(uid)         *SortCommand    SORT with ESORT RETURN; ReadThread(uid) *ThreadCommand
//	ReadEnable()          []string        ReadID() []IDField
//	ReadCreate()          *CreateCommand  CREATE (USE (...))
//	ReadQuotaRoot()       string          GETQUOTA; ReadSetQuota() SETQUOTA
//	ReadSetACL()          *AclCommand     ReadMailboxIdentifier() for DELETEACL and LISTRIGHTS
//	ReadGetMetadata()     *GetMetadataCommand; ReadSetMetadata(maxSize) *SetMetadataCommand
//	ReadNotify()          *NotifyCommand
//	ReadMailboxArg()      string          one mailbox: SELECT-less commands (DELETE, SUBSCRIBE,
//	                                      GETQUOTAROOT, GETACL, MYRIGHTS...)
//	ReadCopy(uid), ReadRename(), ReadUIDExpunge(), ReadLogin(), ReadAuthenticate()
//
// Commands without arguments are read with End alone; ReadLine reads the
// lines that are not commands (AUTHENTICATE responses, IDLE's DONE).
// What a grammar cannot know (an extension not enabled, a charset not
// served, an unknown THREAD algorithm or NOTIFY event) is left to the
// dispatcher.
//
// # Literals and limits
//
// Limits bounds the command text (MaxLineLength: every byte but literal
// data), a literal inside a command (MaxLiteralSize), both together
// (MaxCommandSize), list nesting (MaxDepth) and what Discard may skip
// (MaxDiscard). A synchronising literal ("{n}") inside a command is
// checked before Continue is called, so a refused one is never sent by
// the client (NO [TOOBIG]; the session goes on, RFC 9051 §7.5). A
// non-synchronising one ("{n+}", RFC 7888 LITERAL+) is sent regardless:
// over the limit, Discard reads and drops it, then NO [TOOBIG]. With
// Decoder.LiteralMinus, one over 4,096 octets gets BAD [TOOBIG] (RFC 7888
// §5). Message literals (APPEND, CATENATE TEXT) are not read by the
// decoder: LiteralHeader returns their size and kind ("~{n}" literal8 of
// RFC 3516 included) so the dispatcher can refuse them on APPENDLIMIT
// (RFC 7889) before the continuation; AcceptLiteral then calls Continue
// and returns a reader of exactly the literal's data, or Discard drops
// it.
//
// # Writing responses
//
// Encoder methods write one element and chain; the first write error
// sticks and Flush returns it:
//
//	enc.Untagged().Number(3).Raw(" EXISTS").CRLF()
//	enc.Status("A1", "OK", "READ-WRITE", "SELECT completed")
//	enc.StatusCode("", "OK", func(e *wire.Encoder) { e.Raw("PERMANENTFLAGS ").Flags(fl) }, "Limited")
//	enc.Flush()
//
// Response helpers write what several handlers send: BodySectionName,
// BinarySectionName and BinarySizeName (FETCH item names), ESearch,
// Vanished, MailboxStatus, ListData, Capabilities.
//
// String chooses quoted or literal, AString adds the atom form, NString
// NIL; Literal, Literal8 and LiteralFrom (a reader of known size) write
// literals; List, Flags, Mailbox (modified UTF-7 unless UTF8Accept),
// NumSet and DateTime the rest. Encoder.UTF8 allows UTF-8 in quoted
// strings (IMAP4rev2 or UTF8=ACCEPT).
//
// # Types
//
// go-imap v2's imap types are used where they serve (imap.SeqSet,
// imap.UIDSet, imap.Flag, imap.FetchItemBodySection...); the grammars
// define their own where those lack something, documented with each.
package wire
