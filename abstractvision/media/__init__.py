"""Media helpers shared by backends, the server and the writer: PNG chunks, MIME sniffing, images, masks."""
