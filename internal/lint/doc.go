// Package lint holds tests that keep the architecture of DESIGN.md true:
// which zkx packages may import which, and which single package owns each
// third-party library. It has no code of its own.
package lint
