// Package webhook delivers the catalog's webhook outbox: it claims due
// deliveries, POSTs each one's JSON payload signed with HMAC-SHA256 under
// its webhook's secret, and records the outcome: delivered on a 2xx answer
// (never sent again), retried with exponential backoff and jitter
// otherwise, failed after the maximum number of attempts.
//
// The outbox lives in the catalog (catalog.Outbox), written in the same
// transaction as the events it announces, so a crash or restart of the
// deliverer loses nothing: an attempt that never reported is claimed again
// when its lease runs out. A receiver that acknowledged a delivery is not
// sent it again unless the deliverer died between the receiver's answer and
// recording it; the X-Bakery-Delivery header lets receivers drop such a
// repeat.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Headers sent with every delivery.
const (
	HeaderSignature = "X-Bakery-Signature" // "sha256=" + hex HMAC-SHA256 of the body
	HeaderEvent     = "X-Bakery-Event"     // the event name, e.g. promoted
	HeaderDelivery  = "X-Bakery-Delivery"  // the delivery ID: the same on every attempt
	HeaderAttempt   = "X-Bakery-Attempt"   // 1 for the first attempt, 2 for the first retry…
)

const signaturePrefix = "sha256="

// Sign returns the X-Bakery-Signature value of body under secret:
// "sha256=" and the hex HMAC-SHA256.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature (an X-Bakery-Signature value) is body's
// under secret, comparing in constant time.
func Verify(secret string, body []byte, signature string) bool {
	got, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok {
		return false
	}
	sum, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(sum, m.Sum(nil))
}
