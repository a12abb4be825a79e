from shipmark.cli import main

main()
