/* message.c - placeholder; written by its issue. */
