// Package ledger is the storage-free core of the platform's tamper-evident
// log: the canonical leaf encoding, signed checkpoints, inclusion and
// consistency proofs, tiles, a streaming tree and offline receipts.
//
// Every change to a record and every access to a person's data appends one
// leaf. A leaf is a commitment, never personal data: the event kind, its id,
// its time and SHA-256(salt || content) for a random per-event salt. The salt
// and content stay in the database; erasing both at the end of retention
// leaves the log verifiable.
//
// The package follows these specifications:
//
//   - RFC 6962 Merkle tree hashing, record proofs and consistency proofs, as
//     implemented by golang.org/x/mod/sumdb/tlog, whose stored-hash layout a
//     store persists (see [Tree.AppendStored]).
//   - C2SP signed-note (https://c2sp.org/signed-note) through
//     golang.org/x/mod/sumdb/note, with Ed25519 keys.
//   - C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) for the
//     checkpoint body: origin, tree size, base64 root hash.
//   - C2SP tlog-tiles (https://c2sp.org/tlog-tiles) for tile paths, hash
//     tiles of height 8 and entry bundles.
//
// The wire formats this package owns, leaves ([LeafVersion]) and receipts
// ([ReceiptVersion]), carry a version and are parsed strictly and with a size
// bound. The package does no I/O: hashes are read through a [tlog.HashReader]
// and time is passed in.
//
// Errors carry a kind from pubcredit/internal/errs: [errs.Invalid] for data
// that does not parse or does not verify, [errs.Malformed] for a bad request
// (a proof for a negative index, an index beyond the tree, from > to, a bad
// tile path), [errs.NotFound] for a tile beyond the tree. Errors returned by a
// HashReader are wrapped with %w and keep their kind.
package ledger
