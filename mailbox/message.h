/* message.h - placeholder */
