//go:build !race

package bodyfilter

const raceEnabled = false
