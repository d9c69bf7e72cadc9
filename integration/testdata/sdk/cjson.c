/* Built against libcjson-dev from an SDK: the host has neither the header
 * nor the library, so this builds (and runs) only under vroot --sdk. */
#include <stdio.h>
#include <cjson/cJSON.h>

int main(void)
{
	cJSON *o = cJSON_Parse("{\"vroot\": 42}");
	if (o == NULL)
		return 1;
	printf("vroot=%d cjson=%s\n", cJSON_GetObjectItem(o, "vroot")->valueint, cJSON_Version());
	cJSON_Delete(o);
	return 0;
}
