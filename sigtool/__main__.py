from sigtool.cli import main

main()
