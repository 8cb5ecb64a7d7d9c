/* mboxlist.c - placeholder; written by its issue. */
