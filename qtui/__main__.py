from qtui.cli import main

main()
