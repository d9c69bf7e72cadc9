/* The cross build's program: links zlib, which only the SDK has for the
 * target architecture. */
#include <stdio.h>
#include <zlib.h>

int main(void)
{
	printf("zlib %s\n", zlibVersion());
	return 0;
}
