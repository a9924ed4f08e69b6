{
  "targets": [
    {
      "target_name": "chiral_native",
      "sources": ["addon.c", "sha256-chain.c", "write-chunk.c", "release-memory.c", "aligned-buffer.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
