from louzhang.cli import main

main()
