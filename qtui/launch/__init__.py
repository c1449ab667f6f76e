"""`--launch`: start the vLLM servers a profile describes, one after another, and stop them on exit.

`plan` is pure (command lines, ports, whether the memory fractions fit); `vllm` runs the processes.
"""
