// Package bayes is Surat's built-in statistical spam classifier: it turns a
// message into token hashes (Tokenizer), combines the token counts of the
// global model and of a user's model into a spam probability (Classifier),
// and builds the events that train and bound the models (TrainEvent,
// PruneEvent, Pruner).
//
// The models are replicated state: SpamTrained and SpamPruned are events,
// and package mailbox applies them to Pebble (apply_spam.go) and reads the
// counts back (Store.SpamCounts). This package owns what a token is and the
// arithmetic; it must not touch storage, and apply must not tokenize: the
// proposer hashes tokens once, so every node counts the same hashes whatever
// tokenizer its binary has.
//
// # Tokens
//
// A token is a string, lower-cased and namespaced by where it was found
// ("subject:cheap", "from:domain:example.com", "url:example.com", a bare
// body word "viagra"), hashed with 64-bit FNV-1a. The hash of a given string
// never changes between versions (the models on disk are keyed by it); a new
// tokenizer that finds other strings only starts from less evidence.
// Features stated by the receiving server (AddFeature: "auth:dmarc=pass",
// "ptr:none", "dnsbl:zen.spamhaus.org") are hashed under their own "f/"
// namespace so a message cannot forge them with its text.
//
// What is read (docs/DESIGN.md, "Spam filtering"): header field names;
// Subject and the display names of the address fields (RFC 2047 decoded);
// address and domain of From, To, Cc, Reply-To, Sender, Return-Path;
// host names and /24s of Received; the domain of Message-ID; results of
// Authentication-Results (RFC 8601) and Received-SPF; a few header fields
// whose words matter (X-Mailer, User-Agent, Content-Type...); the MIME
// structure (types, charsets, transfer encodings, attachment name
// extensions); text parts decoded (quoted-printable, base64; UTF-8,
// US-ASCII and ISO-8859-1/Windows-1252 as text, other charsets for their
// ASCII words), HTML reduced to its text, its tag names and its link
// targets; URLs reduced to their host and its parent domains. Words are
// runs of letters, digits, dollar signs, dashes and apostrophes (Graham's "A Plan for Spam"),
// 3 to 40 characters; a longer run becomes a "skip:" token naming its first
// character and its length in tens (as SpamBayes does). Bare numbers are
// dropped. Each pair of neighbouring words is a token too ("bi:free money"),
// and a word in capitals also counts as such ("caps:free"): on the
// SpamAssassin public corpus, ten-fold, both lowered false positives and
// raised recall (docs/DESIGN.md). X-Spam-* fields are
// never read: they are an earlier filter's verdict, not the message.
//
// Input is bounded: the first MaxInput bytes are read, at most MaxTokens
// distinct tokens kept (the first found: headers come first).
package bayes
