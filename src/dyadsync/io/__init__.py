"""Reading and writing: video and audio decoding, coded events, MEA files, and atomic output files."""
