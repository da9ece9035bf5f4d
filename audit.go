package keywatch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// ComputeHash returns the hash of the entry chained to PrevHash: SHA-256 over
// a length-prefixed encoding of every field but Hash, in hex. Both store
// adapters and `keywatch audit verify` use it, so they agree byte for byte.
func (e *AuditEntry) ComputeHash() string {
	h := sha256.New()
	for _, f := range []string{
		strconv.FormatInt(e.Seq, 10),
		e.Time.UTC().Format(time.RFC3339Nano),
		e.Actor, e.Action, e.Subject, e.Reason, string(e.Detail), e.PrevHash,
	} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyAuditChain checks that entries, oldest first and starting from the
// first entry of the log, are numbered without gaps and each hash covers its
// entry and its predecessor. It returns an error naming the first entry that
// breaks the chain.
func VerifyAuditChain(entries []AuditEntry) error {
	prev := ""
	for i := range entries {
		e := &entries[i]
		if want := int64(i + 1); e.Seq != want {
			return Errorf(EINVALID, "audit entry %d: expected sequence %d: an entry was removed or inserted", e.Seq, want)
		}
		if e.PrevHash != prev {
			return Errorf(EINVALID, "audit entry %d: previous hash does not match entry %d", e.Seq, e.Seq-1)
		}
		if e.Hash != e.ComputeHash() {
			return Errorf(EINVALID, "audit entry %d: hash does not match its content: it was modified", e.Seq)
		}
		prev = e.Hash
	}
	return nil
}
