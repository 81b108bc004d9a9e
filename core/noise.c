/* placeholder: being written */ typedef int tg_placeholder_noise;
