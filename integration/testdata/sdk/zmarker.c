/* Says whose zlib.h it was compiled against: an SDK's marked copy defines
 * VROOT_SDK_MARKER, the host's does not. Links the host's -lz either way. */
#include <stdio.h>
#include <zlib.h>

#ifndef VROOT_SDK_MARKER
#define VROOT_SDK_MARKER "host"
#endif

int main(void)
{
	printf("zlib.h from %s, zlib %s\n", VROOT_SDK_MARKER, zlibVersion());
	return 0;
}
