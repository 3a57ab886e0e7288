// Pipe I/O shared by the harnesses (included by harness.cpp and cycle_harness.cpp).
static const size_t BLOCK = 16384;

// Read as many whole records as are available (up to BLOCK); 0 at end of input.
static size_t read_records(uint64_t* buf) {
    const size_t want = BLOCK * WORDS_IN * sizeof(uint64_t);
    size_t got = 0;
    char* p = reinterpret_cast<char*>(buf);
    while (got < want) {
        ssize_t n = read(0, p + got, want - got);
        if (n <= 0) break;
        got += static_cast<size_t>(n);
        if (got % (WORDS_IN * sizeof(uint64_t)) == 0) break;
    }
    return got / (WORDS_IN * sizeof(uint64_t));
}

static void write_all(const uint64_t* buf, size_t words) {
    const char* p = reinterpret_cast<const char*>(buf);
    size_t left = words * sizeof(uint64_t);
    while (left > 0) {
        ssize_t n = write(1, p, left);
        if (n <= 0) { perror("harness write"); std::exit(3); }
        p += n;
        left -= static_cast<size_t>(n);
    }
}
