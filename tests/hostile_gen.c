/* hostile_gen - writes, on standard output, one message no one should
 * send, for tests/t0070-hostile.sh.
 *
 *   hostile_gen KIND [SCALE]
 *
 * KIND: nest (multiparts nested SCALE deep, default 10,000), header (one
 * header line of SCALE MiB, default 64), nul (NUL bytes in headers and
 * body), charset (unknown and lying charsets), encoding (broken base64
 * and quoted-printable), parts (SCALE tiny attachments, default 20,000),
 * body (a text body of SCALE MiB, default 200), boundary (boundaries that
 * never close), fields (SCALE short header fields, default 2,000,000: 12
 * bytes of header cost GMime hundreds of bytes each). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void head(const char *subject)
{
    printf("From: Hostile <hostile@example.com>\r\nTo: victim@example.org\r\n"
           "Subject: %s\r\nMessage-ID: <%s@hostile.example>\r\nMIME-Version: 1.0\r\n",
           subject, subject);
}

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "";
    long scale = argc > 2 ? atol(argv[2]) : 0;

    if (!strcmp(kind, "nest")) {
        long n = scale ? scale : 10000;
        head("nest");
        for (long i = 0; i < n; i++)
            printf("Content-Type: multipart/mixed; boundary=\"b%ld\"\r\n\r\n--b%ld\r\n", i, i);
        printf("Content-Type: text/plain\r\n\r\nhostilenest at the bottom\r\n");
        for (long i = n - 1; i >= 0; i--)
            printf("--b%ld--\r\n", i);
    } else if (!strcmp(kind, "header")) {
        long mib = scale ? scale : 64;
        static char chunk[1 << 20];
        memset(chunk, 'a', sizeof chunk);
        head("header");
        fputs("X-Long: ", stdout);
        for (long i = 0; i < mib; i++)
            fwrite(chunk, 1, sizeof chunk, stdout);
        printf("\r\nContent-Type: text/plain\r\n\r\nhostileheader body\r\n");
    } else if (!strcmp(kind, "nul")) {
        static const char m[] = "From: a\0b@example.com\r\nSubject: nul\0byte\r\n"
                                "X-Nul: \0\0\0\r\n\r\nhostilenul body\0with\0nuls\r\n";
        fwrite(m, 1, sizeof m - 1, stdout);
    } else if (!strcmp(kind, "charset")) {
        head("charset");
        printf("Content-Type: multipart/mixed; boundary=\"c\"\r\n\r\n"
               "--c\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
               "hostilecharset caf\xe9 \xff\xfe\r\n"
               "--c\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
               "lying \xc3\x28 \xe2\x82 \xf0\x90\x80\r\n"
               "--c\r\nContent-Type: text/plain; charset=utf-16\r\n\r\n");
        fwrite("odd\0\r\n", 1, 6, stdout);
        printf("--c\r\nContent-Type: text/html; charset=\"\"\r\n\r\n"
               "<p>unclosed <b attr=\"\r\n--c--\r\n");
    } else if (!strcmp(kind, "encoding")) {
        head("encoding");
        printf("Content-Type: multipart/mixed; boundary=\"e\"\r\n\r\n"
               "--e\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
               "aG9zdGlsZWVuY29kaW5n!!!@@@===\r\nnot base64 at all\r\n===\r\n"
               "--e\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
               "broken =ZZ =\r\n=4 soft=\r\n"
               "--e\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-unknown\r\n\r\n"
               "what\r\n--e--\r\n");
    } else if (!strcmp(kind, "parts")) {
        long n = scale ? scale : 20000;
        head("parts");
        printf("Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n"
               "--p\r\nContent-Type: text/plain\r\n\r\nhostileparts\r\n");
        for (long i = 0; i < n; i++)
            printf("--p\r\nContent-Type: application/octet-stream; name=\"f%ld.bin\"\r\n"
                   "Content-Disposition: attachment; filename=\"f%ld.bin\"\r\n"
                   "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n", i, i);
        printf("--p--\r\n");
    } else if (!strcmp(kind, "body")) {
        long mib = scale ? scale : 200;
        static char line[1 << 20];
        head("body");
        printf("Content-Type: text/plain; charset=utf-8\r\n\r\nhostilebody\r\n");
        for (size_t i = 0; i + 10 < sizeof line; i += 10)
            memcpy(line + i, "word wore ", 10);
        line[sizeof line - 2] = '\r';
        line[sizeof line - 1] = '\n';
        for (long i = 0; i < mib; i++)
            fwrite(line, 1, sizeof line, stdout);
    } else if (!strcmp(kind, "fields")) {
        long n = scale ? scale : 2000000;
        head("fields");
        for (long i = 0; i < n; i++)
            fputs("X-Field: v\r\n", stdout);
        printf("Content-Type: text/plain\r\n\r\nhostilefields body\r\n");
    } else if (!strcmp(kind, "boundary")) {
        head("boundary");
        printf("Content-Type: multipart/mixed; boundary=\"never\"\r\n\r\n"
               "--never\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
               "--inner\r\nContent-Type: text/plain\r\n\r\nhostileboundary\r\n"
               "--inner\r\nContent-Type: text/html\r\n\r\n<p>and no end\r\n");
    } else {
        fprintf(stderr, "usage: hostile_gen nest|header|nul|charset|encoding|parts|body|boundary|fields [SCALE]\n");
        return 64;
    }
    return ferror(stdout) ? 74 : 0;
}
