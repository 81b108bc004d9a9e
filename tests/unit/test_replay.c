#include <stdio.h>
int main(void)
{
    fprintf(stderr, "placeholder: not written yet\n");
    return 1;
}
