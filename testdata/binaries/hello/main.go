// Command hello is the smallest useful executable for the detection tests:
// it imports nothing, so that each cross-compiled copy stays near 1 MB.
package main

func main() { println("hello") }
